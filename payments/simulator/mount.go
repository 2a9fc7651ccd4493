package simulator

import "net/http"

// Handle serves pattern with h on the simulator's port, beside its own pages: the shop mounts
// its development mailbox at /mail this way. Call it before Run.
func (s *Simulator) Handle(pattern string, h http.Handler) {
	if s.running.Load() {
		panic("simulator: Handle called after Run")
	}
	mux := http.NewServeMux()
	mux.Handle(pattern, h)
	mux.Handle("/", s.handler)
	s.handler = mux
}
