/**
 * Preloaded into every trial's `train` process (node --import): when the process that started the
 * trial (a sweep worker) dies, even by SIGKILL, the trial dies with it instead of running on as an
 * orphan while its trial is retried elsewhere. Linux re-parents an orphan, so a changed ppid is the sign.
 */
const parent = process.ppid;
const timer = setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL');
}, 200);
timer.unref();
