import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { GoogleGenerativeAI } from '@google/generative-ai';
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { wrap } from './wrap.ts';

afterEach(() => vi.restoreAllMocks());

describe('wrap', () => {
  it('instruments each supported client in place and returns the same object', () => {
    const openai = new OpenAI({ apiKey: 'k' });
    const anthropic = new Anthropic({ apiKey: 'k' });
    const genai = new GoogleGenAI({ apiKey: 'k' });
    const legacy = new GoogleGenerativeAI('k');
    const before = [openai.chat.completions.create, anthropic.messages.create, genai.models.generateContent, legacy.getGenerativeModel];
    expect(wrap(openai)).toBe(openai);
    expect(wrap(anthropic)).toBe(anthropic);
    expect(wrap(genai)).toBe(genai);
    expect(wrap(legacy)).toBe(legacy);
    const after = [openai.chat.completions.create, anthropic.messages.create, genai.models.generateContent, legacy.getGenerativeModel];
    after.forEach((method, i) => expect(method).not.toBe(before[i]));
  });

  it('returns an unknown client unchanged and warns once', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    class HomeMadeClient {
      ask() {
        return 'hi';
      }
    }
    const a = new HomeMadeClient();
    expect(wrap(a)).toBe(a);
    expect(wrap(new HomeMadeClient()).ask()).toBe('hi');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toContain('HomeMadeClient');
  });
});
