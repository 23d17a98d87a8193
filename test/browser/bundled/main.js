// An app as a bundler sees it: it imports the package by name, and esbuild (platform browser)
// must pick the browser build through the package's "browser" export condition.
import { Thread } from 'graceful-threads';

export async function run(sync) {
  const thread = new Thread(new URL('./worker.js', import.meta.url), { args: [sync] }).start();
  for (let i = 0; i < 200 && Atomics.load(sync, 0) === 0; i++) {
    const wait = Atomics.waitAsync(sync, 0, 0, 100);
    if (wait.async) await wait.value;
  }
  thread.interrupt();
  const value = await thread.join();
  // A bundled module that does not import the package ends its thread, rather than hang it.
  const plain = new Thread(new URL('./plain.js', import.meta.url)).start();
  const plainError = await plain.join().then(
    () => undefined,
    (error) => error.code,
  );
  const plainMessage = await plain.join().catch((error) => error.message);
  // A module that fails to load: join() rejects with the browser's error, which names it.
  const missing = await new Thread(new URL('./missing.js', import.meta.url))
    .start()
    .join()
    .then(
      () => undefined,
      (error) => ({ name: error.name, namesModule: String(error.message).includes('missing.js') }),
    );
  return { value, state: thread.state, plainError, plainState: plain.state, plainMessage, missing };
}
