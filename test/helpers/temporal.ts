import { TestWorkflowEnvironment } from '@temporalio/testing';
import { toolPath } from '../../src/setup/tools';
import { createLogger } from '../../src/shared/logger';
import { installTemporalRuntime } from '../../src/shared/temporalRuntime';
import { devServerSearchAttributeArgs } from '../../src/shared/searchAttributes';

/** The SDK's warnings and errors only, so test output stays readable. */
export function quietTemporal(): void {
  installTemporalRuntime(createLogger({ LOG_LEVEL: (process.env.LOG_LEVEL as 'warn') ?? 'warn', LOG_PRETTY: false }));
}

/** A real Temporal dev server from the installed CLI, on a free port, for one test file. */
export async function startTemporal(): Promise<TestWorkflowEnvironment> {
  quietTemporal();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: toolPath('temporal') },
      ip: '127.0.0.1',
      ui: false,
      extraArgs: ['--log-level', 'error', ...devServerSearchAttributeArgs()],
    },
  });
}
