// Command storebench measures the storefront as a user runs it, from outside: catalogue
// throughput (anonymous, and logged in with a cart) next to a bare net/http server sending the
// same bytes, loaded by wrk when installed and interleaved A/B; durable webhooks per second;
// webhook-to-SSE latency and memory with thousands of open streams; cold start. It builds the
// storefront, runs it as a child process with the default configuration on a temporary
// database, prints one table and writes it, with the machine, to BENCHMARKS.md. `make bench`
// runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the knobs of one run; -quick shrinks them for a smoke check.
type options struct {
	out            string
	duration       time.Duration // catalogue load per server
	warmup         time.Duration // catalogue load before measuring, not counted
	conns          int           // concurrent keep-alive connections for the catalogue
	rounds         int           // interleaved catalogue rounds (the median is reported)
	ownClient      bool          // load the catalogue with the bench's own client even if wrk is installed
	orders         int           // pending guest orders confirmed by webhooks
	senders        int           // concurrent webhook senders
	users          int           // users holding open order streams
	streamsPerUser int
	topics         int // guest checkouts each watched by perTopic streams
	perTopic       int
	launches       int // cold starts on an existing database
	workdir        string
	quick          bool
	only           string // comma-separated parts to run; empty: all
	postgres       string // a PostgreSQL database to measure on too; empty: SQLite only
}

// runs reports whether the part (catalogue, webhooks, streams) is to be measured.
func (o options) runs(part string) bool {
	return o.only == "" || slices.Contains(strings.Split(o.only, ","), part)
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == bareServerFlag {
		// The bench re-executes itself as the comparison server, so that both servers are
		// separate processes under the same conditions.
		if err := serveBare(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "storebench bare server: %v\n", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.StringVar(&o.out, "out", "BENCHMARKS.md", "write the results here too (empty: stdout only; -quick writes only when -out is given)")
	flag.DurationVar(&o.duration, "duration", 8*time.Second, "catalogue load per server and round")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved catalogue rounds (medians are reported)")
	flag.BoolVar(&o.ownClient, "own-client", false, "load the catalogue with the bench's own client even when wrk is installed")
	flag.IntVar(&o.topics, "topics", 2, "guest checkouts, each watched by -per-topic streams at once")
	flag.IntVar(&o.perTopic, "per-topic", 5000, "open streams on each of those checkouts")
	flag.IntVar(&o.conns, "conns", 50, "concurrent keep-alive connections for the catalogue load")
	flag.IntVar(&o.orders, "orders", 6000, "pending orders confirmed by signed webhooks")
	flag.IntVar(&o.senders, "senders", 32, "concurrent webhook senders")
	flag.IntVar(&o.users, "users", 200, "users with open order streams (one order each is confirmed)")
	flag.IntVar(&o.streamsPerUser, "streams-per-user", 5, "open /orders/events streams per user")
	flag.IntVar(&o.launches, "launches", 5, "cold starts on an existing database (the median is reported)")
	flag.StringVar(&o.workdir, "workdir", "", "folder for the temporary database (default: the system temp folder unless it is tmpfs)")
	flag.BoolVar(&o.quick, "quick", false, "short runs with small counts, to check that the bench works")
	flag.StringVar(&o.only, "only", "", "measure only these parts, comma-separated: catalogue, webhooks, streams, postgres (writes -out only when given)")
	flag.StringVar(&o.postgres, "postgres", "", "measure the catalogue and webhooks on this PostgreSQL database too, in a schema of their own (`make bench` starts a throwaway cluster when pg_virtualenv is installed)")
	flag.Parse()
	outSet := false
	flag.Visit(func(f *flag.Flag) { outSet = outSet || f.Name == "out" })
	if o.only != "" && !outSet {
		o.out = "" // a partial run must not overwrite the recorded results
	}
	if o.quick {
		if !outSet {
			o.out = "" // a smoke check must not overwrite the recorded results
		}
		o.duration = min(o.duration, 2*time.Second)
		o.orders = min(o.orders, 1000)
		o.users = min(o.users, 20)
		o.launches = min(o.launches, 3)
		o.rounds = min(o.rounds, 1)
		o.perTopic = min(o.perTopic, 500)
	}
	o.warmup = min(2*time.Second, o.duration/4)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "storebench: %v\n", err)
		os.Exit(1)
	}
}

// benchStart is when the bench began, for the elapsed time in progress lines.
var benchStart = time.Now()

// progress tells the person waiting what the bench is doing; results go to stdout.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "storebench [%5.1fs]: "+format+"\n", append([]any{time.Since(benchStart).Seconds()}, args...)...)
}
