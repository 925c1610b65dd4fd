import { SessionProcess } from './mixer/SessionProcess.ts';
import { SESSION_DEFAULTS } from './mixer/SessionTypes.ts';
const s = await SessionProcess.create({ ...SESSION_DEFAULTS, compositePort: 40000, compositeH264Port: 40002, everyoneMixPort: 40004 });
console.log('session pid', s.pid, 'pgid', process.pid);
await new Promise((r) => setTimeout(r, 1000));
process.kill(-process.pid, 'SIGTERM');
