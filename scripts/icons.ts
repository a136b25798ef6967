/**
 * `npm run icons`: the app's icons at every size the installers need, drawn from
 * resources/icon.svg. The PNGs are committed (a release does not depend on this script
 * running), and test/unit/packaging.test.ts checks that they are all there at their sizes.
 *
 *   resources/icons/<N>x<N>.png   16 … 1024: Linux (AppImage, deb) takes the folder
 *   resources/icon.png            1024: macOS (electron-builder makes the .icns from it)
 *   resources/icon.ico            16 … 256: Windows (the installer and the executable)
 *
 * The SVG is rendered by resvg (@resvg/resvg-js). The .ico is written here: a small
 * container of PNG images, which Windows reads since Vista, and no package is needed for
 * it.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Resvg } from "@resvg/resvg-js";

const resources = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../resources");
export const ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024] as const;
const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256] as const;

function render(svg: string, size: number): Buffer {
  return Buffer.from(new Resvg(svg, { fitTo: { mode: "width", value: size }, background: "rgba(0,0,0,0)" }).render().asPng());
}

/** An .ico of PNG images: a 6-byte header, a 16-byte entry per image, then the images. */
function ico(images: { size: number; png: Buffer }[]): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0); // reserved
  header.writeUInt16LE(1, 2); // 1: icon
  header.writeUInt16LE(images.length, 4);
  let offset = 6 + 16 * images.length;
  const entries = images.map(({ size, png }) => {
    const entry = Buffer.alloc(16);
    entry.writeUInt8(size >= 256 ? 0 : size, 0); // width (0 means 256)
    entry.writeUInt8(size >= 256 ? 0 : size, 1); // height
    entry.writeUInt8(0, 2); // no palette
    entry.writeUInt8(0, 3); // reserved
    entry.writeUInt16LE(1, 4); // colour planes
    entry.writeUInt16LE(32, 6); // bits per pixel
    entry.writeUInt32LE(png.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += png.length;
    return entry;
  });
  return Buffer.concat([header, ...entries, ...images.map((i) => i.png)]);
}

function main(): void {
  const svg = fs.readFileSync(path.join(resources, "icon.svg"), "utf8");
  fs.mkdirSync(path.join(resources, "icons"), { recursive: true });
  const pngs = new Map<number, Buffer>();
  for (const size of ICON_SIZES) {
    const png = render(svg, size);
    pngs.set(size, png);
    fs.writeFileSync(path.join(resources, "icons", `${size}x${size}.png`), png);
  }
  fs.writeFileSync(path.join(resources, "icon.png"), pngs.get(1024)!);
  fs.writeFileSync(path.join(resources, "icon.ico"), ico(ICO_SIZES.map((size) => ({ size, png: pngs.get(size)! }))));
  console.log(`icons: ${ICON_SIZES.length} PNGs in resources/icons, resources/icon.png and resources/icon.ico (${ICO_SIZES.join(", ")})`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
