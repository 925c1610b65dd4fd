/**
 * `npm run bench:ladder`: the ladder's CPU cost against a single encode (scripts/bench/ladder.ts).
 *   node --import tsx scripts/bench-ladder.ts [--tiles 4] [--rounds 2] [--seconds 10] [--settle 3]
 */
process.env.MCU_LOG_LEVEL ??= 'warn';
const { ladderMain } = await import('./bench/ladderMain.ts');
process.exitCode = await ladderMain(process.argv.slice(2));
