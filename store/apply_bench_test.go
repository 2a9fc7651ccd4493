package store

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"storefront/store/storetest"
)

// BenchmarkApplyEventCompleted confirms distinct pending orders with checkout.session.completed,
// one durable transaction each (WAL, synchronous=FULL), as the webhook does: this is the
// ceiling on webhooks per second. With STOREFRONT_TEST_DATABASE_URL set, on PostgreSQL.
func BenchmarkApplyEventCompleted(b *testing.B) {
	ctx := context.Background()
	db := mustOpenDBAt(b, storetest.DSN(b))
	orders := benchPendingOrders(b, db, b.N)
	events := make([]Change, len(orders))
	for i, o := range orders {
		events[i] = benchCompletedEvent(o)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := db.ApplyChange(ctx, events[i])
		if err != nil {
			b.Fatal(err)
		}
		if res.Outcome != OutcomeApplied {
			b.Fatalf("event %s: outcome %s (%s), want applied", events[i].Event.ID, res.Outcome, res.Reason)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if o, err := db.Order(ctx, orders[b.N-1].ID); err != nil || o.Status != StatusPaid {
		b.Fatalf("last order: %s, %v; want paid", o.Status, err)
	}
}

// benchPendingOrders writes n pending guest orders of two products, each in its own cart with
// a Checkout Session and holding its stock, in one transaction (PrepareOrder would take three commits per order).
func benchPendingOrders(b *testing.B, db *DB, n int) []Order {
	b.Helper()
	ctx := context.Background()
	products, err := db.Products(ctx)
	if err != nil || len(products) < 2 {
		b.Fatalf("need the seeded catalogue: %v", err)
	}
	orders := make([]Order, 0, n)
	err = db.inTx(ctx, func(tx *writeTx) error {
		now := db.now()
		for i := range n {
			lines := []Product{products[i%len(products)], products[(i+3)%len(products)]}
			var cartID int64
			if err := tx.QueryRowContext(ctx, "INSERT INTO carts (token, created_at) VALUES (?, ?) RETURNING id", "bench-"+strconv.Itoa(i), now).Scan(&cartID); err != nil {
				return err
			}
			o := Order{CartID: cartID, Status: StatusPending, Currency: "usd"}
			for _, p := range lines {
				if _, err := tx.ExecContext(ctx, "INSERT INTO cart_items (cart_id, product_id, quantity, added_at) VALUES (?, ?, 1, ?)", cartID, p.ID, now); err != nil {
					return err
				}
				o.AmountTotal += p.Price
				o.Items = append(o.Items, OrderItem{ProductID: p.ID, Name: p.Name, UnitAmount: p.Price, Quantity: 1})
			}
			err := tx.QueryRowContext(ctx, `INSERT INTO orders (cart_id, cart_fingerprint, status, amount_total, currency,
				checkout_session_id, checkout_url, session_expires_at, created_at, updated_at, stock_state)
				VALUES (?, 'bench', 'pending', ?, 'usd', ?, 'https://checkout.stripe.com/c/pay/bench', ?, ?, ?, 'held') RETURNING id`,
				cartID, o.AmountTotal, "cs_bench_"+strconv.Itoa(i), now, now, now).Scan(&o.ID)
			if err != nil {
				return err
			}
			o.CheckoutSessionID = "cs_bench_" + strconv.Itoa(i)
			for _, it := range o.Items {
				if _, err := tx.ExecContext(ctx, "INSERT INTO order_items (order_id, product_id, name, unit_amount, quantity) VALUES (?, ?, ?, ?, 1)",
					o.ID, it.ProductID, it.Name, it.UnitAmount); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, "UPDATE products SET held = held + 1 WHERE id = ?", it.ProductID); err != nil {
					return err
				}
			}
			orders = append(orders, o)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return orders
}

// benchCompletedEvent pays the order; its payload has the size of a real Stripe event (about 2 KiB).
func benchCompletedEvent(o Order) Change {
	id := fmt.Sprintf("evt_bench_%d", o.ID)
	pi := fmt.Sprintf("pi_bench_%d", o.ID)
	payload := fmt.Sprintf(`{"id":%q,"object":"event","api_version":"2023-10-16","created":1700000000,"data":{"object":{`+
		`"id":%q,"object":"checkout.session","after_expiration":null,"allow_promotion_codes":null,"amount_subtotal":%d,`+
		`"amount_total":%d,"automatic_tax":{"enabled":false,"liability":null,"status":null},"billing_address_collection":null,`+
		`"cancel_url":"http://localhost:8000/cancelled/","client_reference_id":null,"client_secret":null,"consent":null,`+
		`"consent_collection":null,"created":1699999940,"currency":"usd","currency_conversion":null,"custom_fields":[],`+
		`"custom_text":{"after_submit":null,"shipping_address":null,"submit":null,"terms_of_service_acceptance":null},`+
		`"customer":null,"customer_creation":"if_required","customer_details":{"address":{"city":null,"country":"US",`+
		`"line1":null,"line2":null,"postal_code":"10001","state":null},"email":"buyer@example.com","name":"Bench Buyer",`+
		`"phone":null,"tax_exempt":"none","tax_ids":[]},"customer_email":null,"expires_at":1700086340,"invoice":null,`+
		`"invoice_creation":{"enabled":false,"invoice_data":{"account_tax_ids":null,"custom_fields":null,"description":null,`+
		`"footer":null,"issuer":null,"metadata":{},"rendering_options":null}},"livemode":false,"locale":null,`+
		`"metadata":{"order_id":"%d"},"mode":"payment","payment_intent":%q,"payment_link":null,`+
		`"payment_method_collection":"if_required","payment_method_configuration_details":null,`+
		`"payment_method_options":{"card":{"request_three_d_secure":"automatic"}},"payment_method_types":["card"],`+
		`"payment_status":"paid","phone_number_collection":{"enabled":false},"recovered_from":null,`+
		`"saved_payment_method_options":null,"setup_intent":null,"shipping_address_collection":null,"shipping_cost":null,`+
		`"shipping_details":null,"shipping_options":[],"status":"complete","submit_type":null,"subscription":null,`+
		`"success_url":"http://localhost:8000/success/?session_id={CHECKOUT_SESSION_ID}",`+
		`"total_details":{"amount_discount":0,"amount_shipping":0,"amount_tax":0},"ui_mode":"hosted","url":null}},`+
		`"livemode":false,"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":"checkout.session.completed"}`,
		id, o.CheckoutSessionID, o.AmountTotal, o.AmountTotal, o.ID, pi)
	return Change{
		Event: EventRecord{ID: id, Type: "checkout.session.completed", APIVersion: "2023-10-16", Created: 1700000000,
			ObjectID: o.CheckoutSessionID, Payload: []byte(payload)},
		Order:         OrderRef{SessionID: o.CheckoutSessionID, PaymentIntent: pi, OrderID: o.ID},
		Effect:        EffectSettle,
		To:            StatusPaid,
		Payment:       &Payment{Amount: o.AmountTotal, Currency: "usd"},
		CustomerEmail: "buyer@example.com",
	}
}

// BenchmarkApplyEventCompletedConcurrent is BenchmarkApplyEventCompleted with 64 webhooks in
// flight, as under a burst: the events share commits, so this is the committer's CPU ceiling.
func BenchmarkApplyEventCompletedConcurrent(b *testing.B) {
	ctx := context.Background()
	db := mustOpenDBAt(b, storetest.DSN(b))
	orders := benchPendingOrders(b, db, b.N)
	events := make(chan Change, len(orders))
	for _, o := range orders {
		events <- benchCompletedEvent(o)
	}
	close(events)
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ev := <-events
			res, err := db.ApplyChange(ctx, ev)
			if err != nil {
				b.Fatal(err)
			}
			if res.Outcome != OutcomeApplied {
				b.Fatalf("event %s: outcome %s (%s), want applied", ev.Event.ID, res.Outcome, res.Reason)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
