export { openRtc, type Rtc } from './rtc';
