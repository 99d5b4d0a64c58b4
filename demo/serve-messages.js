// How both demo workers take their messages: one at a time, in order, each
// one's failure posted as an `error` message (with the message type it was
// handling), except the messages `now(msg)` lets through at once (a `stop`
// must reach a loop that is running).

/** Serves `handle(msg)` on this worker's messages; `post(type, body)` answers. */
export function serveMessages(handle, post, now = () => false) {
  let queue = Promise.resolve();
  self.onmessage = ({ data: msg }) => {
    const run = async () => {
      try {
        await handle(msg);
      } catch (e) {
        post("error", { message: e?.message ?? String(e), during: msg.type });
      }
    };
    if (now(msg)) run();
    else queue = queue.then(run);
  };
}
