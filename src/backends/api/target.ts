import type { Config } from '../../shared/config';
import { simulatorUrl } from '../../shared/grokTarget';
import { STAND_IN_API_KEY } from '../../simulator/xai/standIn';
import type { XaiClientSettings } from './client';

export interface XaiTarget {
  baseUrl: string;
  apiKey: string;
  /** No XAI_API_KEY: the simulator's stand-in of the API, never api.x.ai (and never a charge). */
  simulated: boolean;
}

/** Which xAI API the API backend calls: XAI_BASE_URL with XAI_API_KEY, or the stand-in without a key. */
export function xaiTarget(config: Config): XaiTarget {
  if (config.XAI_API_KEY) return { baseUrl: config.XAI_BASE_URL, apiKey: config.XAI_API_KEY, simulated: false };
  return { baseUrl: `${simulatorUrl(config)}/v1`, apiKey: STAND_IN_API_KEY, simulated: true };
}

export function xaiClientSettings(config: Config, extra: Pick<XaiClientSettings, 'logger'> = {}): XaiClientSettings {
  const { baseUrl, apiKey } = xaiTarget(config);
  return { baseUrl, apiKey, videoModel: config.XAI_VIDEO_MODEL, imageModel: config.XAI_IMAGE_MODEL, ...extra };
}
