/** A one-line progress bar on a terminal; periodic lines otherwise (CI logs stay readable). */
export function progress(label: string, total: number) {
  const tty = process.stderr.isTTY;
  const started = performance.now();
  let lastPct = -1;
  return {
    update(done: number, failed: number) {
      const pct = Math.floor((done / total) * 100);
      const rate = done / ((performance.now() - started) / 1000);
      const text = `${label} ${done}/${total} (${pct}%) ${failed ? `${failed} failed, ` : ''}${rate.toFixed(2)}/s`;
      if (tty) {
        const width = 30;
        const filled = Math.round((done / total) * width);
        process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}   `);
        if (done === total) process.stderr.write('\n');
      } else if (pct >= lastPct + 10 || done === total) {
        lastPct = pct;
        process.stderr.write(`${text}\n`);
      }
    },
  };
}
