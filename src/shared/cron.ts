// What Temporal Schedules accept as a cron string (ScheduleSpec.cronExpressions): 5 fields
// (minute hour day-of-month month day-of-week), 6 (the same plus YEAR), 7 (second first,
// year last), @hourly-style shorthands, or `@every <n><s|m|h|d>[/<phase>]`; optionally
// `CRON_TZ=<zone> ` in front and `# comment` behind. Temporal checks the fields themselves
// when the master creates the schedule; this catches the forms that parse but mean
// something else than most people read in them.

const SHORTHANDS = ['@yearly', '@monthly', '@weekly', '@daily', '@hourly'];
const EVERY = /^@every\s+\d+[smhd](\/\d+[smhd])?$/;
const FIELD = /^[\w*?,/#-]+$/;

const FORMS = 'use 5 fields (minute hour day-of-month month day-of-week, e.g. "*/10 * * * *" for every 10 minutes), '
  + '7 fields with seconds first and year last (e.g. "*/10 * * * * * *"), or "@every 10s"';

/** Why a SCHEDULER_CRON value is refused, or undefined when Temporal reads it as written. */
export function cronProblem(cron: string): string | undefined {
  const body = cron.replace(/^(CRON_TZ|TZ)=\S+\s+/, '').replace(/\s*#.*$/, '').trim();
  if (body.startsWith('@')) {
    if (SHORTHANDS.includes(body) || EVERY.test(body)) return undefined;
    return `"${cron}" is not a form Temporal knows: ${SHORTHANDS.join(', ')} or "@every <n><s|m|h|d>" (e.g. "@every 30s"); or ${FORMS}`;
  }
  const fields = body.split(/\s+/);
  const bad = fields.find((f) => !FIELD.test(f));
  if (bad !== undefined) return `"${cron}": "${bad}" is not a cron field; ${FORMS}`;
  if (fields.length === 6) {
    // Read by most as "second minute hour …", by Temporal as "minute … year": refuse it.
    const [first, ...rest] = fields;
    const every = /^\*\/(\d+)$/.exec(first!)?.[1];
    const seconds = every ? `"@every ${every}s" or ` : '';
    return `"${cron}" has 6 fields, which Temporal reads as minute hour day-of-month month day-of-week YEAR `
      + `(not seconds first: "${first}" would be minutes). For seconds write ${seconds}the 7-field "${first} ${rest.join(' ')} *"; `
      + `for minutes the 5 fields "${fields.slice(0, 5).join(' ')}"`;
  }
  if (fields.length !== 5 && fields.length !== 7) return `"${cron}" has ${fields.length} fields; ${FORMS}`;
  return undefined;
}
