// A JSON editor for program documents: a plain textarea with line numbers, and each problem shown
// beside the line it is about (and listed below, for screen readers and long messages).
import { useEffect, useRef, useState } from 'react';

export interface LineProblem {
  line: number;
  path: string;
  message: string;
}

/** Matches .json-editor's line height in styles.css. */
const LINE_PX = 20;
const PAD_PX = 8;

export function JsonEditor({
  value,
  onChange,
  problems,
  label,
  reveal,
  rows = 28,
}: {
  value: string;
  onChange: (text: string) => void;
  problems: LineProblem[];
  label: string;
  /** A line to scroll into view; a new `seq` scrolls again (after each refused save). */
  reveal?: { line: number; seq: number } | null;
  rows?: number;
}) {
  const area = useRef<HTMLTextAreaElement>(null);
  const [scroll, setScroll] = useState(0);
  const revealLine = reveal?.line;
  const revealSeq = reveal?.seq;
  useEffect(() => {
    const el = area.current;
    if (!el || revealLine === undefined) return;
    el.scrollTop = Math.max(0, (revealLine - 3) * LINE_PX);
    setScroll(el.scrollTop);
  }, [revealLine, revealSeq]);
  const lineCount = value.split('\n').length;
  const byLine = new Map<number, LineProblem[]>();
  for (const p of problems) byLine.set(p.line, [...(byLine.get(p.line) ?? []), p]);

  /** Puts the caret at the start of a line and scrolls it into view. */
  function goTo(line: number) {
    const el = area.current;
    if (!el) return;
    const offset =
      value
        .split('\n')
        .slice(0, line - 1)
        .join('\n').length + (line > 1 ? 1 : 0);
    el.focus();
    el.setSelectionRange(offset, offset);
    el.scrollTop = Math.max(0, (line - 3) * LINE_PX);
  }

  return (
    <div className="json-editor-wrap">
      <div
        className={`json-editor${problems.length ? ' json-editor-invalid' : ''}`}
        style={{ height: rows * LINE_PX + 2 * PAD_PX }}
      >
        <div className="json-gutter" aria-hidden="true">
          <div style={{ transform: `translateY(${-scroll}px)` }}>
            {Array.from({ length: lineCount }, (_, n) => (
              <div key={n} className={byLine.has(n + 1) ? 'json-gutter-bad' : undefined}>
                {n + 1}
              </div>
            ))}
          </div>
        </div>
        <textarea
          ref={area}
          aria-label={label}
          aria-invalid={problems.length > 0}
          aria-describedby="json-problems"
          spellCheck={false}
          wrap="off"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          onScroll={(e) => setScroll(e.currentTarget.scrollTop)}
        />
        <div className="json-notes" aria-hidden="true">
          <div style={{ transform: `translateY(${-scroll}px)` }}>
            {[...byLine.entries()].map(([line, list]) => (
              <div
                key={line}
                className="json-note"
                style={{ top: (line - 1) * LINE_PX }}
                title={list.map((p) => `${p.path || 'document'}: ${p.message}`).join('\n')}
              >
                ← {list.map((p) => p.message).join('; ')}
              </div>
            ))}
          </div>
        </div>
      </div>
      <ul id="json-problems" className="json-problems" aria-live="polite">
        {problems.map((p, n) => (
          <li key={`${p.line}-${p.path}-${n}`}>
            <button type="button" className="linklike" onClick={() => goTo(p.line)}>
              Line {p.line}
            </button>{' '}
            <code>{p.path || 'document'}</code> {p.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
