/**
 * `npm run bench`: the MCU server measured for N participants against bare FFmpeg and an SFU.
 *   node --import tsx scripts/bench.ts [--sizes 1,2,4,9,16] [--seconds 12] [--settle 5] [--keep]
 * See scripts/bench/main.ts.
 */
// Quiet module loggers (FFmpeg supervision) unless asked otherwise: set before they are created.
process.env.MCU_LOG_LEVEL ??= 'warn';
const { main } = await import('./bench/main.ts');
process.exitCode = await main(process.argv.slice(2));
