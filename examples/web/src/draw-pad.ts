/**
 * The drawing canvas: white strokes on black (as MNIST digits), with mouse, pen or touch;
 * a picked picture can be drawn on it to be classified the same way.
 */
import { rgbaToPicture } from './picture.js';
import type { Picture } from './protocol.js';

/** A canvas to draw on; `onStroke` runs when a stroke ends. */
export class DrawPad {
  private readonly ctx: CanvasRenderingContext2D;
  private drawing = false;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    onStroke: () => void,
  ) {
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('no 2D canvas to draw on');
    this.ctx = ctx;
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      this.drawing = true;
      canvas.setPointerCapture(e.pointerId);
      const [x, y] = this.at(e);
      this.ctx.beginPath();
      this.ctx.moveTo(x, y);
      this.ctx.lineTo(x + 0.01, y);
      this.ctx.stroke();
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drawing) return;
      const [x, y] = this.at(e);
      this.ctx.lineTo(x, y);
      this.ctx.stroke();
    });
    const end = (): void => {
      if (!this.drawing) return;
      this.drawing = false;
      onStroke();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  /** Paints the canvas black. */
  clear(): void {
    const { ctx, canvas } = this;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = canvas.width / 12;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
  }

  /** Draws a picture to fill the canvas (centre-cropped to a square). */
  show(bitmap: ImageBitmap): void {
    const side = Math.min(bitmap.width, bitmap.height);
    this.clear();
    this.ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, this.canvas.width, this.canvas.height);
  }

  /** What is on the canvas, as an RGB picture. */
  picture(): Picture {
    const { width, height } = this.canvas;
    return rgbaToPicture(this.ctx.getImageData(0, 0, width, height).data, width, height);
  }

  private at(e: PointerEvent): [number, number] {
    const r = this.canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * this.canvas.width) / r.width, ((e.clientY - r.top) * this.canvas.height) / r.height];
  }
}
