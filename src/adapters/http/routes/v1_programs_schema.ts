import { programJsonSchema } from '../../../core/programs/schema.js';
import type { RegisterRoute } from './index.js';

const register: RegisterRoute = (app) => {
  const schema = programJsonSchema();
  app.get(
    '/v1/programs/schema.json',
    {
      // The schema describes the document format, not any workspace's data: editors fetch it without a key.
      config: { public: true },
      schema: { summary: 'The JSON Schema of a program document', tags: ['programs'], hide: true },
    },
    async (_req, reply) => {
      reply.header('content-type', 'application/schema+json; charset=utf-8');
      return JSON.stringify(schema);
    },
  );
};
export default register;
