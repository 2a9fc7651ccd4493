package simulator

import (
	"net"
	"net/http"
	"strings"
)

// loopbackHosts are the only names the simulator answers to.
var loopbackHosts = []string{"localhost", "127.0.0.1", "::1"}

// onlyLoopbackHosts answers 421 Misdirected Request to any Host but the simulator's own loopback
// names on its own port. Listening on loopback is not enough: through DNS rebinding a web page
// can make the browser send requests for its own name to 127.0.0.1, and reach the dev page's
// Refund and Expire buttons.
func onlyLoopbackHosts(port string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, p, err := net.SplitHostPort(r.Host)
		if err == nil && p == port {
			for _, ok := range loopbackHosts {
				if strings.EqualFold(host, ok) {
					next.ServeHTTP(w, r)
					return
				}
			}
		}
		msg := "The checkout simulator answers only to localhost, 127.0.0.1 and [::1] on port " + port + "."
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			se := invalidRequest(http.StatusMisdirectedRequest, "", "", "%s", msg)
			writeAPI(w, newRequestID(), se.Status, map[string]any{"error": se})
			return
		}
		http.Error(w, msg, http.StatusMisdirectedRequest)
	})
}
