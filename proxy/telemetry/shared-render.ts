/**
 * One exposition render for many scrapes. A scrape that arrives while a render runs does not start another, nor take
 * the running one (which may have passed series that have counted since): it waits for the next render, which starts
 * when the running one ends and serves every scrape that arrived meanwhile. So each scrape shows every count made
 * before it arrived, and however many scrapers there are, at most one render runs and one waits. The price is a
 * scrape's wait: up to two renders when it arrives mid-render.
 */
import type { Registry } from 'prom-client';
import { renderExposition, type Exposition } from './exposition.js';

export class SharedRender {
  private running: Promise<Exposition> | undefined;
  private next: Promise<Exposition> | undefined;

  constructor(private readonly registry: Registry) {}

  render(): Promise<Exposition> {
    if (!this.running) return this.start();
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<Exposition> {
    const render = renderExposition(this.registry).finally(() => {
      this.running = undefined;
    });
    this.running = render;
    return render;
  }
}
