// Loaded into every live pod process: if the twin that started it dies without cleaning up
// (kill -9, a crashed test worker), the pod exits instead of lingering as an orphan.
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid !== parent) process.exit(137);
}, 500);
timer.unref();
