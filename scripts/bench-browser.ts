/**
 * `npm run bench:browser`: what a person in Chromium gets (scripts/bench/browser.ts).
 *   node --import tsx scripts/bench-browser.ts [--scenarios room,saturated] [--seconds 20] [--saturated-seconds 60] [--settle 5] [--keep]
 * Writes artifacts/bench/browser-<timestamp>.json and browser-latest.json, prints a table.
 */
process.env.MCU_LOG_LEVEL ??= 'warn';
const { browserMain } = await import('./bench/browserMain.ts');
process.exitCode = await browserMain(process.argv.slice(2));
