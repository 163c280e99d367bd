/** The project the person picked in the header; every collector call then acts on it. */
export const PROJECT_COOKIE = 'parallax-project';

export const PROJECT_COOKIE_OPTIONS = {
  path: '/',
  httpOnly: true,
  sameSite: 'lax',
  secure: false,
  maxAge: 60 * 60 * 24 * 365,
} as const;
