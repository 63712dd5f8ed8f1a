import { runLoad, type LoadTarget } from './webhook-load';

/**
 * The load generator in a process of its own (see runLoadApart in bench/webhook-load.ts): it takes
 * one run's target, rate and seconds from its parent, sends each second's number as it starts and
 * the Load at the end (or why it could not run), then exits.
 */
interface Order {
  target: LoadTarget;
  rate: number;
  seconds: number;
}

process.once('message', (order: Order) => {
  // runLoad throws before its promise on a bad URL: that reason is reported too.
  Promise.resolve()
    .then(() => runLoad(order.target, order.rate, order.seconds, (second) => process.send?.({ second })))
    .then(
      (load) => process.send?.({ load }, () => process.exit(0)),
      (err: unknown) => process.send?.({ error: err instanceof Error ? err.message : String(err) }, () => process.exit(1)),
    );
});
