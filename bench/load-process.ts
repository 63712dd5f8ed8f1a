import { runLoad, type LoadTarget } from './webhook-load';

/**
 * The load generator in a process of its own (ApartLoadGenerator in bench/webhook-load.ts): it runs
 * each order its parent sends (target, rate, seconds) in turn, sends each second's number as it starts
 * and the Load at the end (or why it could not run), and exits when its parent disconnects. One
 * process serves a warm-up and the runs after it, so that its code is compiled before it is measured.
 */
interface Order {
  target: LoadTarget;
  rate: number;
  seconds: number;
}

process.on('message', (order: Order) => {
  // runLoad throws before its promise on a bad URL: that reason is reported too.
  Promise.resolve()
    .then(() => runLoad(order.target, order.rate, order.seconds, (second) => process.send?.({ second })))
    .then(
      (load) => process.send?.({ load }),
      (err: unknown) => process.send?.({ error: err instanceof Error ? err.message : String(err) }),
    );
});
process.on('disconnect', () => process.exit(0));
