/** A React Flow viewport: screen = flow × zoom + (x, y). */
export interface Viewport { x: number; y: number; zoom: number }

/** A canvas size in screen pixels. */
export interface Size { width: number; height: number }

/**
 * recentred is the viewport that shows, at the middle of a canvas resized
 * from prev to next, the flow point that was at the middle before: the
 * zoom stays and the view moves by half the change in each direction.
 * A canvas that had or has no size (not laid out yet) keeps the viewport.
 */
export function recentred(v: Viewport, prev: Size, next: Size): Viewport {
  if (prev.width <= 0 || prev.height <= 0 || next.width <= 0 || next.height <= 0) return v;
  return { x: v.x + (next.width - prev.width) / 2, y: v.y + (next.height - prev.height) / 2, zoom: v.zoom };
}
