export { AmplitudeSink, THROTTLE_RETRY_MS, DAILY_QUOTA_RETRY_MS, type AmplitudeSinkOptions } from './sink';
