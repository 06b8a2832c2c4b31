import type { PageProps } from './props';
import { NewProgram } from './programs/NewProgram';
import { ProgramDetail } from './programs/ProgramDetail';
import { ProgramList } from './programs/ProgramList';

/**
 * Programs: the list and the reference templates (`/programs`), creating one from a template
 * (`/programs/new?template=...`), and one program's terms, editor and version history
 * (`/programs/{key}`).
 */
export function Programs({ path, query }: PageProps) {
  const key = path.split('/')[2];
  if (key === 'new')
    return <NewProgram key={query.get('template') ?? ''} template={query.get('template') ?? ''} />;
  if (key) return <ProgramDetail key={key} programKey={decodeURIComponent(key)} />;
  return <ProgramList />;
}
