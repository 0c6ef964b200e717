import { describe, expect, it } from 'vitest';
import { defaultDataDir, resolveDbPath } from './paths';

describe('defaultDataDir', () => {
  it('follows XDG on Linux', () => {
    expect(defaultDataDir({}, 'linux', '/home/ada')).toBe('/home/ada/.local/share/attention-workbench');
    expect(defaultDataDir({ XDG_DATA_HOME: '/data/xdg' }, 'linux', '/home/ada')).toBe('/data/xdg/attention-workbench');
    // The XDG spec says relative and empty values are ignored.
    expect(defaultDataDir({ XDG_DATA_HOME: 'relative/dir' }, 'linux', '/home/ada')).toBe('/home/ada/.local/share/attention-workbench');
    expect(defaultDataDir({ XDG_DATA_HOME: '' }, 'linux', '/home/ada')).toBe('/home/ada/.local/share/attention-workbench');
    expect(defaultDataDir({}, 'freebsd', '/usr/home/ada')).toBe('/usr/home/ada/.local/share/attention-workbench');
  });

  it('uses Application Support on macOS', () => {
    expect(defaultDataDir({ XDG_DATA_HOME: '/ignored' }, 'darwin', '/Users/ada')).toBe('/Users/ada/Library/Application Support/Attention Workbench');
  });

  it('uses %APPDATA% on Windows', () => {
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ada')).toBe(
      'C:\\Users\\ada\\AppData\\Roaming\\Attention Workbench',
    );
    expect(defaultDataDir({ AppData: 'D:\\Roaming' }, 'win32', 'C:\\Users\\ada')).toBe('D:\\Roaming\\Attention Workbench');
    expect(defaultDataDir({}, 'win32', 'C:\\Users\\ada')).toBe('C:\\Users\\ada\\AppData\\Roaming\\Attention Workbench');
  });

  it('defaults to the real environment', () => {
    expect(defaultDataDir()).toMatch(/attention-workbench|Attention Workbench/);
  });
});

describe('resolveDbPath', () => {
  const linux = { platform: 'linux' as const, home: '/home/ada', cwd: '/work/project' };

  it('prefers --db, then ATTN_DB, then the data folder', () => {
    const env = { ATTN_DB: '/env/store.sqlite', XDG_DATA_HOME: '/xdg' };
    expect(resolveDbPath({ ...linux, env, cliPath: '/cli/store.sqlite' })).toBe('/cli/store.sqlite');
    expect(resolveDbPath({ ...linux, env })).toBe('/env/store.sqlite');
    expect(resolveDbPath({ ...linux, env: { XDG_DATA_HOME: '/xdg' } })).toBe('/xdg/attention-workbench/workbench.sqlite');
    expect(resolveDbPath({ ...linux, env: { ATTN_DB: '  ' } })).toBe('/home/ada/.local/share/attention-workbench/workbench.sqlite');
  });

  it('resolves relative paths against cwd and expands a leading ~', () => {
    expect(resolveDbPath({ ...linux, env: {}, cliPath: 'runs/w.sqlite' })).toBe('/work/project/runs/w.sqlite');
    expect(resolveDbPath({ ...linux, env: { ATTN_DB: '../w.sqlite' } })).toBe('/work/w.sqlite');
    expect(resolveDbPath({ ...linux, env: { ATTN_DB: '~/w.sqlite' } })).toBe('/home/ada/w.sqlite');
    expect(resolveDbPath({ ...linux, env: {}, cliPath: ':memory:' })).toBe(':memory:');
    expect(() => resolveDbPath({ ...linux, env: {}, cliPath: '' })).toThrow(/--db needs a file path/);
  });

  it('builds Windows and macOS paths', () => {
    const win = { platform: 'win32' as const, home: 'C:\\Users\\ada', cwd: 'C:\\work' };
    expect(resolveDbPath({ ...win, env: { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' } })).toBe(
      'C:\\Users\\ada\\AppData\\Roaming\\Attention Workbench\\workbench.sqlite',
    );
    expect(resolveDbPath({ ...win, env: { attn_db: 'data\\w.sqlite' } })).toBe('C:\\work\\data\\w.sqlite');
    expect(resolveDbPath({ ...win, env: {}, cliPath: '~\\w.sqlite' })).toBe('C:\\Users\\ada\\w.sqlite');
    expect(resolveDbPath({ platform: 'darwin', home: '/Users/ada', cwd: '/', env: {} })).toBe(
      '/Users/ada/Library/Application Support/Attention Workbench/workbench.sqlite',
    );
  });
});
