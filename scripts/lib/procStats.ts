/** Process statistics live in the shared base (the load generator reports its own CPU with them). */
export * from '../../mixer/procStats.ts';
