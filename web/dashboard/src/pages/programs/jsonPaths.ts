// Where each field of a JSON text is, by line, so an error the API names by path
// (`rewards[0].recipient`) can be shown beside the line that holds it.

/** The line (1-based) of every path in `text`, written the way the API writes `param`. */
export function pathLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let i = 0;
  let line = 1;
  const stop = new Error('malformed');

  const space = () => {
    while (i < text.length) {
      const c = text[i];
      if (c === '\n') line++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') return;
      i++;
    }
  };
  const string = (): string => {
    let out = '';
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
      } else {
        if (text[i] === '\n') throw stop;
        out += text[i++];
      }
    }
    if (i >= text.length) throw stop;
    i++;
    return out;
  };
  const value = (path: string): void => {
    space();
    if (!lines.has(path)) lines.set(path, line);
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        space();
        if (text[i] !== '"') throw stop;
        const at = line;
        const key = string();
        const child = path ? `${path}.${key}` : key;
        lines.set(child, at);
        space();
        if (text[i] !== ':') throw stop;
        i++;
        value(child);
        space();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else throw stop;
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value(`${path}[${n}]`);
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else throw stop;
      }
    }
    if (c === '"') {
      string();
      return;
    }
    const m = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 40));
    if (!m) throw stop;
    i += m[0].length;
  };

  try {
    value('');
  } catch {
    // A malformed text still has the lines of everything before the fault.
  }
  return lines;
}

/**
 * The line of `param`, or of its nearest parent present in the text (a missing field is reported
 * at the object that should hold it).
 */
export function lineOf(lines: Map<string, number>, param: string): number {
  let p = param.replace(/^body\.?/, '');
  for (;;) {
    const hit = lines.get(p);
    if (hit !== undefined) return hit;
    if (!p) return 1;
    const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
    p = cut <= 0 ? '' : p.slice(0, cut);
  }
}

/** Where JSON.parse stopped, as a line, from its message (V8 names a position, newer ones a line). */
export function syntaxErrorLine(text: string, message: string): number {
  const byLine = /line (\d+)/.exec(message);
  if (byLine) return Number(byLine[1]);
  const byPosition = /position (\d+)/.exec(message);
  if (byPosition) return text.slice(0, Number(byPosition[1])).split('\n').length;
  return 1;
}
