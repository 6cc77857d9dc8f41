// Unit tests that wait for something asynchronous to happen in-process: poll a condition in small steps, a bounded
// number of times, and let the assertions that follow say what did not happen (no timeout error of its own).

/** Polls `until` every `stepMs` until it holds or `tries` polls have passed. */
export async function pollUntil(until: () => boolean, tries = 200, stepMs = 5): Promise<void> {
  for (let i = 0; i < tries && !until(); i++) await new Promise((resolve) => setTimeout(resolve, stepMs));
}
