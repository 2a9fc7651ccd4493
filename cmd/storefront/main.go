// Command storefront serves the shop; `storefront reconcile` catches up on missed payment
// events. Configuration comes from the environment; see README.md.
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
	command := run // serve the shop
	args := os.Args[1:]
	if len(args) > 0 {
		switch args[0] {
		case "admin":
			command, args = runAdmin, args[1:]
		case "reconcile":
			command, args = reconcileCommand, args[1:]
		}
	}
	if err := command(ctx, args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "storefront: %v\n", err)
		os.Exit(1)
	}
}
