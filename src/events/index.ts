export { type BerthEvent, EventBus } from './bus.ts';
