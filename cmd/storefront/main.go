// Command storefront serves the shop. Configuration comes from the environment; see README.md.
package main

import (
	"context"
	"fmt"

	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "storefront: %v\n", err)
		os.Exit(1)
	}
}
