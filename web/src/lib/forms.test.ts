import { describe, expect, it } from 'vitest';
import { scheduleFieldOfRefusal, cronProblem, emptyRunForm, emptyScheduleForm, parseParams, parseTags, runRequest, scheduleRequest } from './forms';

describe('run form', () => {
  it('builds a job request from valid input, leaving out empty options', () => {
    const { req, errors } = runRequest('wf1', { ...emptyRunForm, params: '{"n": 3}', priority: '7', mode: 'lan', robotTags: 'win, excel ,', uniqueKey: ' k1 ' });
    expect(errors).toEqual({});
    expect(req).toEqual({ workflow_id: 'wf1', params: { n: 3 }, priority: 7, execution_mode: 'lan', robot_tags: ['win', 'excel'], unique_key: 'k1' });
  });
  it('names every bad field and builds nothing', () => {
    const { req, errors } = runRequest('wf1', { ...emptyRunForm, params: '[1]', priority: '10', maxAttempts: '0' });
    expect(req).toBeUndefined();
    expect(Object.keys(errors).sort()).toEqual(['maxAttempts', 'params', 'priority']);
    expect(errors.params).toMatch(/JSON object/);
  });
  it('refuses a deadline before not-before', () => {
    const { errors } = runRequest('wf', { ...emptyRunForm, notBefore: '2026-12-01T10:00', deadline: '2026-12-01T09:00' });
    expect(errors.deadline).toBeDefined();
  });
  it('turns local times into RFC 3339', () => {
    const { req } = runRequest('wf', { ...emptyRunForm, deadline: '2026-12-01T10:00' });
    expect(req?.deadline).toBe(new Date('2026-12-01T10:00').toISOString());
  });
});

describe('parsing helpers', () => {
  it('parseParams accepts an empty text as no parameters', () => {
    expect(parseParams('  ')).toEqual({ value: {} });
    expect(parseParams('{oops').error).toMatch(/^is not JSON/);
  });
  it('parseTags drops blanks', () => {
    expect(parseTags(' a, ,b ')).toEqual(['a', 'b']);
  });
});

describe('cronProblem', () => {
  it.each(['*/5 * * * *', '0 30 9 * * MON-FRI', '@daily', '@every 90s', '@every 1h30m', '0 0 1,15 * *'])('accepts %s', (e) => {
    expect(cronProblem(e)).toBeUndefined();
  });
  it.each([
    ['', /Give a cron/], ['* * *', /3 fields/], ['@sometimes', /Unknown descriptor/], ['@every soon', /Go duration/], ['* * * * $', /characters/],
  ])('rejects %j', (e, want) => {
    expect(cronProblem(e)).toMatch(want);
  });
});

describe('schedule form', () => {
  it('builds a schedule request', () => {
    const { req } = scheduleRequest({ ...emptyScheduleForm, workflowId: 'wf', cron: ' @hourly ', overlap: 'forbid' });
    expect(req).toMatchObject({ workflow_id: 'wf', cron: '@hourly', timezone: 'UTC', overlap: 'forbid', priority: 5, enabled: true, params: {} });
  });
  it('requires a workflow and a plausible cron', () => {
    const { req, errors } = scheduleRequest({ ...emptyScheduleForm, cron: 'x' });
    expect(req).toBeUndefined();
    expect(Object.keys(errors).sort()).toEqual(['cron', 'workflowId']);
  });
});

describe('scheduleFieldOfRefusal', () => {
  it('maps the API field a refusal names to the form field', () => {
    expect(scheduleFieldOfRefusal({ field: 'cron' })).toBe('cron');
    expect(scheduleFieldOfRefusal({ field: 'timezone' })).toBe('timezone');
    expect(scheduleFieldOfRefusal({ field: 'overlap' })).toBeUndefined();
    expect(scheduleFieldOfRefusal({})).toBeUndefined();
    expect(scheduleFieldOfRefusal(undefined)).toBeUndefined();
  });
});
