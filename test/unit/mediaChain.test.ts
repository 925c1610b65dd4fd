import { describe, expect, it } from 'vitest';
import { Chain, type LinkFactory } from '../../src/media/chain.ts';

type Control = { note: string };
interface Stream {
  skip: string[];
}

/** A link that appends its name to each packet's bytes, logs control messages, and can send some upstream. */
function tagger(name: string, log: string[], options: { upstreamOn?: string; later?: (send: () => void) => void } = {}): LinkFactory<Stream, Control> {
  return {
    name,
    bind(stream, { next, upstream }) {
      if (stream.skip.includes(name)) return undefined;
      return {
        handle(packet) {
          const out = Buffer.concat([packet, Buffer.from(name)]);
          if (options.later) options.later(() => next(out));
          else next(out);
          if (options.upstreamOn && packet.toString().endsWith(options.upstreamOn)) upstream({ note: `from ${name}` });
        },
        control: (message) => log.push(`${name}: ${message.note}`),
        close: () => log.push(`${name} closed`),
      };
    },
  };
}

describe('Chain', () => {
  it('passes packets through the links in order into the sink, leaving out the links that opt out', () => {
    const out: string[] = [];
    const log: string[] = [];
    const chain = new Chain({ skip: ['b'] }, [tagger('a', log), tagger('b', log), tagger('c', log)], (p) => out.push(p.toString()));
    chain.push(Buffer.from('>'));
    expect(out).toEqual(['>ac']);
    expect(chain.names).toEqual(['a', 'c']);
  });

  it('takes packets a link passes on later (from a timer of its own)', () => {
    const out: string[] = [];
    const held: (() => void)[] = [];
    const chain = new Chain({ skip: [] }, [tagger('a', [], { later: (send) => held.push(send) }), tagger('b', [])], (p) => out.push(p.toString()));
    chain.push(Buffer.from('1'));
    expect(out).toEqual([]);
    held.shift()!();
    expect(out).toEqual(['1ab']);
  });

  it('sends control from the far end to every link, the last first; a link’s own goes only to the links before it', () => {
    const log: string[] = [];
    const chain = new Chain({ skip: [] }, [tagger('a', log), tagger('b', log, { upstreamOn: 'a' }), tagger('c', log)], () => {});
    chain.control({ note: 'decoded' });
    expect(log).toEqual(['c: decoded', 'b: decoded', 'a: decoded']);
    log.length = 0;
    chain.push(Buffer.from('x'));
    expect(log).toEqual(['a: from b']);
  });

  it('closes every link once, and then passes nothing', () => {
    const out: string[] = [];
    const log: string[] = [];
    const held: (() => void)[] = [];
    const chain = new Chain({ skip: [] }, [tagger('a', log, { later: (send) => held.push(send) }), tagger('b', log)], (p) => out.push(p.toString()));
    chain.push(Buffer.from('1'));
    chain.close();
    chain.close();
    held.shift()!();
    chain.push(Buffer.from('2'));
    chain.control({ note: 'late' });
    expect(log).toEqual(['a closed', 'b closed']);
    expect(out).toEqual([]);
  });
});
