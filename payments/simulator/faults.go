package simulator

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultsEnv names the environment variable New reads when Config.Faults is empty, e.g.
// SIMULATOR_FAULTS=drop:0.2,duplicate:0.1,delay:2s,reorder,newer-api-version.
const FaultsEnv = "SIMULATOR_FAULTS"

// newerAPIVersion is the version the newer-api-version fault stamps on webhooks, as an account
// upgraded past stripe-go v76's pinned version would send them.
const newerAPIVersion = "2024-06-20"

// faults are the webhook misbehaviours a developer can switch on to watch reconcile and the
// shop's exactly-once handling at work. The zero value misbehaves in no way.
type faults struct {
	Drop      float64       // chance an event is never delivered (it is still listed by GET /v1/events)
	Duplicate float64       // chance an acknowledged event is delivered a second time
	Delay     time.Duration // extra hold before an event's first delivery
	Reorder   bool          // deliver the newest pending event first, ignoring each session's order
	NewerAPI  bool          // stamp webhooks with a newer api_version than the API renders
}

// parseFaults reads the SIMULATOR_FAULTS syntax: comma-separated drop[:P], duplicate[:P],
// delay:D, reorder and newer-api-version, where P is a chance from 0 to 1 (default 1) and D a
// Go duration; "off" is none at all, whatever the environment says.
func parseFaults(spec string) (faults, error) {
	var f faults
	if strings.TrimSpace(spec) == "off" {
		return f, nil
	}
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, hasValue := strings.Cut(part, ":")
		var err error
		switch name {
		case "drop":
			f.Drop, err = parseChance(value, hasValue)
		case "duplicate":
			f.Duplicate, err = parseChance(value, hasValue)
		case "delay":
			f.Delay, err = time.ParseDuration(value)
			if err == nil && f.Delay < 0 {
				err = fmt.Errorf("negative")
			}
		case "reorder":
			f.Reorder = true
		case "newer-api-version":
			f.NewerAPI = true
		default:
			return faults{}, fmt.Errorf("simulator: unknown fault %q in %s (known: drop, duplicate, delay, reorder, newer-api-version)", name, FaultsEnv)
		}
		if err != nil {
			return faults{}, fmt.Errorf("simulator: fault %q in %s: %v", part, FaultsEnv, err)
		}
	}
	return f, nil
}

func parseChance(value string, given bool) (float64, error) {
	if !given {
		return 1, nil
	}
	p, err := strconv.ParseFloat(value, 64)
	if err != nil || p < 0 || p > 1 {
		return 0, fmt.Errorf("want a chance from 0 to 1")
	}
	return p, nil
}

// String renders f in the SIMULATOR_FAULTS syntax; "" when nothing is switched on.
func (f faults) String() string {
	var parts []string
	if f.Drop > 0 {
		parts = append(parts, "drop:"+strconv.FormatFloat(f.Drop, 'g', -1, 64))
	}
	if f.Duplicate > 0 {
		parts = append(parts, "duplicate:"+strconv.FormatFloat(f.Duplicate, 'g', -1, 64))
	}
	if f.Delay > 0 {
		parts = append(parts, "delay:"+f.Delay.String())
	}
	if f.Reorder {
		parts = append(parts, "reorder")
	}
	if f.NewerAPI {
		parts = append(parts, "newer-api-version")
	}
	return strings.Join(parts, ",")
}

// faultDice decides the chance-based faults; seeded, so a run can be repeated exactly.
type faultDice struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newFaultDice(seed uint64) *faultDice {
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &faultDice{rng: rand.New(rand.NewPCG(seed, seed))}
}

// roll reports whether an event with chance p happens; p of 1 always does, 0 never.
func (d *faultDice) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.Float64() < p
}

// withAPIVersion restamps a queued payload, which always carries the pinned version.
func withAPIVersion(payload []byte, version string) []byte {
	return bytes.Replace(payload, []byte(`"api_version": "`+apiVersion+`"`), []byte(`"api_version": "`+version+`"`), 1)
}

// currentFaults is what the delivery worker obeys now.
func (s *Simulator) currentFaults() faults {
	s.faultsMu.Lock()
	defer s.faultsMu.Unlock()
	return s.faults
}

// setFaults switches faults on or off at once, waking the delivery worker to act on the change.
func (s *Simulator) setFaults(f faults) {
	s.faultsMu.Lock()
	s.faults = f
	s.faultsMu.Unlock()
	if f != (faults{}) {
		s.log.Warn("webhook fault injection on", "faults", f.String())
	} else {
		s.log.Info("webhook fault injection off")
	}
	wake(s.deliveryWake)
}
