import { configFromEnv, startCollector } from './index.ts';

const config = configFromEnv();
const collector = await startCollector(config);
const where = collector.storage.mode === 'embedded' ? `embedded ClickHouse in ${config.dataDir}` : `ClickHouse at ${config.clickhouse.url}`;
console.log(`parallax collector listening on :${collector.port} (${where})`);
if (collector.generatedKey) {
  console.log(`
  Created the default project and its first API key (shown once; it is stored hashed):

    PARALLAX_API_KEY=${collector.generatedKey}

  Send your first trace:

    export PARALLAX_API_KEY=${collector.generatedKey} OTEL_EXPORTER_OTLP_ENDPOINT=${config.publicUrl}

    import OpenAI from 'openai';
    import { init, wrap } from '@parallax/sdk';
    init();
    const openai = wrap(new OpenAI());
`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    collector.close().finally(() => process.exit(0));
  });
}
