import { useEffect, useRef, useState } from "react";

// The live stream (GET /v1/events/stream, Server-Sent Events) read with fetch,
// so every event type arrives through one reader and the session cookie goes
// with it. Reconnects after a drop, resuming with Last-Event-ID.

export interface LiveEvent {
  seq: string;
  type: string;
}

const reconnect_delay_ms = 2_000;
const frame_length_max = 256 * 1024;

function parseFrame(frame: string): LiveEvent | null {
  let id: string | null = null;
  let type = "message";
  for (const line of frame.split("\n")) {
    if (line.startsWith("id:")) id = line.slice(3).trim();
    else if (line.startsWith("event:")) type = line.slice(6).trim();
  }
  return id === null ? null : { seq: id, type };
}

export function useLiveEvents(onEvent: (event: LiveEvent) => void): { connected: boolean; received: number } {
  const [connected, setConnected] = useState(false);
  const [received, setReceived] = useState(0);
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    const controller = new AbortController();
    let last_id: string | null = null;
    const loop = async () => {
      while (!controller.signal.aborted) {
        try {
          const headers: Record<string, string> = { accept: "text/event-stream" };
          if (last_id !== null) headers["last-event-id"] = last_id;
          const response = await fetch("/v1/events/stream", {
            headers,
            credentials: "same-origin",
            signal: controller.signal,
          });
          if (!response.ok || response.body === null) throw new Error(`stream answered ${response.status}`);
          setConnected(true);
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = "";
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            if (buffer.length > frame_length_max) buffer = buffer.slice(-frame_length_max);
            let end = buffer.indexOf("\n\n");
            while (end !== -1) {
              const event = parseFrame(buffer.slice(0, end));
              buffer = buffer.slice(end + 2);
              if (event !== null) {
                last_id = event.seq;
                setReceived((count) => count + 1);
                handler.current(event);
              }
              end = buffer.indexOf("\n\n");
            }
          }
        } catch {
          // dropped or refused: wait and resume
        }
        setConnected(false);
        if (!controller.signal.aborted)
          await new Promise((resolve) => setTimeout(resolve, reconnect_delay_ms));
      }
    };
    void loop();
    return () => controller.abort();
  }, []);
  return { connected, received };
}
