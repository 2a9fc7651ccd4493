package simulator

import "context"

// RunWorkerPass does one pass of the background worker now (due jobs and expiries), so that a
// test can check what a pass does without waiting for the worker's next tick.
func (s *Simulator) RunWorkerPass(ctx context.Context) error {
	_, err := s.runDue(ctx)
	return err
}
