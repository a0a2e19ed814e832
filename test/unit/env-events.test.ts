import { describe, expect, it } from 'vitest';
import { failureMessage } from '../../container/src/runtimes/python-env';
import { SERVING_EVENT_TYPES } from '../../core/registry/model';

describe('environment events', () => {
  it('are serving event types', () => {
    expect(SERVING_EVENT_TYPES).toEqual(
      expect.arrayContaining(['ENV_BUILDING', 'ENV_RESTORED', 'ENV_BUILT', 'ENV_BUILD_FAILED']),
    );
  });

  it('carry a short failure whole', () => {
    expect(failureMessage(new Error('could not build\n`pip install` exited with code 1'))).toBe(
      'could not build\n`pip install` exited with code 1',
    );
  });

  it('carry a long failure as its first line and its last lines, bounded', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `line ${i}`);
    const message = failureMessage(new Error(['could not build the Python environment', ...lines].join('\n')));
    expect(message.length).toBeLessThanOrEqual(1500);
    expect(message.startsWith('could not build the Python environment\n…')).toBe(true);
    expect(message.endsWith('line 399')).toBe(true);
    expect(message).not.toContain('line 0\n');
  });
});
