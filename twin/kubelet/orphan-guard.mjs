// Loaded into every live pod process: if the twin that started it dies without cleaning up
// (kill -9, a crashed test worker), the pod exits instead of lingering as an orphan.
// The twin passes its pid in TWIN_PARENT_PID, so a parent that died before this module loaded
// is noticed too (reading process.ppid here would already give the reaper's pid).
const parent = Number(process.env.TWIN_PARENT_PID) || process.ppid;
const check = () => {
  if (process.ppid !== parent) process.exit(137);
};
check();
const timer = setInterval(check, 250);
timer.unref();
