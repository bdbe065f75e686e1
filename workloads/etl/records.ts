/** A reading as devices send it: Fahrenheit, epoch milliseconds, fields possibly missing. */
export interface RawReading {
  device_id: string;
  ts: number;
  temp_f?: number | null;
  humidity?: number | null;
  vibration?: number | null;
}

/** A reading after transformation: SI units, ISO time, the feature order of the inference model. */
export interface Reading {
  deviceId: string;
  timestamp: string;
  temperatureC: number | null;
  humidityPct: number | null;
  vibrationMmS: number | null;
}

export interface Rejection {
  record: Reading;
  reasons: string[];
}
