#!/usr/bin/python3
"""Writes test/fixtures/augment/pil.json: PIL's results for every RandAugment op (called
exactly as timm/data/auto_augment.py calls PIL, bicubic resample and a fill colour) and for
antialiased resizes, on small fixed images. Run: /usr/bin/python3 scripts/gen_augment_fixtures.py
(needs python3-pil; the test compares our TypeScript ops with these outputs)."""
import base64, json, math, os
import numpy as np
import PIL
from PIL import Image, ImageOps, ImageEnhance, ImageFilter

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'augment', 'pil.json')
rs = np.random.RandomState(0)
FILL = (124, 116, 104)  # timm's img_mean for the ImageNet mean
BICUBIC = Image.BICUBIC


def enc(im):
    return base64.b64encode(np.asarray(im, dtype=np.uint8).tobytes()).decode()


def images():
    noise = rs.randint(0, 256, size=(10, 12, 3), dtype=np.uint8)
    yy, xx = np.mgrid[0:13, 0:9]
    grad = np.stack([xx * 25, yy * 18, (xx + yy) * 9 + 20], -1).clip(0, 255).astype(np.uint8)
    low = rs.randint(60, 140, size=(9, 11), dtype=np.uint8)  # grey, narrow range (autocontrast/equalize)
    return {'noise': Image.fromarray(noise, 'RGB'), 'grad': Image.fromarray(grad, 'RGB'), 'grey': Image.fromarray(low, 'L')}


def fill_for(im):
    return FILL if im.mode == 'RGB' else FILL[0]


def op(name, im, arg):
    # The calls of timm's op functions (auto_augment.py), with resample=BICUBIC and fillcolor as timm passes them.
    kw = dict(resample=BICUBIC, fillcolor=fill_for(im))
    if name == 'AutoContrast': return ImageOps.autocontrast(im)
    if name == 'Equalize': return ImageOps.equalize(im)
    if name == 'Invert': return ImageOps.invert(im)
    if name == 'Rotate': return im.rotate(arg, **kw)
    if name == 'Posterize': return im if arg >= 8 else ImageOps.posterize(im, arg)
    if name == 'Solarize': return ImageOps.solarize(im, arg)
    if name == 'SolarizeAdd':
        lut = [min(255, i + arg) if i < 128 else i for i in range(256)]
        return im.point(lut * (3 if im.mode == 'RGB' else 1))
    if name == 'Color': return ImageEnhance.Color(im).enhance(arg)
    if name == 'Contrast': return ImageEnhance.Contrast(im).enhance(arg)
    if name == 'Brightness': return ImageEnhance.Brightness(im).enhance(arg)
    if name == 'Sharpness': return ImageEnhance.Sharpness(im).enhance(arg)
    if name == 'ShearX': return im.transform(im.size, Image.AFFINE, (1, arg, 0, 0, 1, 0), **kw)
    if name == 'ShearY': return im.transform(im.size, Image.AFFINE, (1, 0, 0, arg, 1, 0), **kw)
    if name == 'TranslateXRel': return im.transform(im.size, Image.AFFINE, (1, 0, arg * im.size[0], 0, 1, 0), **kw)
    if name == 'TranslateYRel': return im.transform(im.size, Image.AFFINE, (1, 0, 0, 0, 1, arg * im.size[1]), **kw)
    raise ValueError(name)


# Arguments as timm's level functions make them at magnitudes around m9 (both signs).
CASES = [
    ('AutoContrast', [0]), ('Equalize', [0]), ('Invert', [0]),
    ('Rotate', [27.0, -27.0, 13.5, -4.2]),
    ('Posterize', [1, 2, 4, 0]), ('Solarize', [26, 128, 0, 256]), ('SolarizeAdd', [99, 110]),
    ('Color', [0.19, 1.81, 0.55, 1.0, 0.0]), ('Contrast', [0.19, 1.81, 0.55]), ('Brightness', [0.19, 1.81, 0.55]),
    ('Sharpness', [0.19, 1.81, 0.55]),
    ('ShearX', [0.27, -0.3, 0.1]), ('ShearY', [0.27, -0.3]),
    ('TranslateXRel', [0.405, -0.405, 0.13]), ('TranslateYRel', [0.405, -0.2]),
]


def main():
    ims = images()
    out = {'pil': PIL.__version__, 'fill': FILL, 'images': {}, 'ops': [], 'resize': []}
    for k, im in ims.items():
        out['images'][k] = {'w': im.size[0], 'h': im.size[1], 'c': len(im.getbands()), 'data': enc(im)}
    for name, args in CASES:
        for k, im in ims.items():
            for a in args:
                out['ops'].append({'op': name, 'image': k, 'arg': a, 'out': enc(op(name, im, a))})
    big = Image.fromarray(rs.randint(0, 256, size=(29, 37, 3), dtype=np.uint8), 'RGB')
    big_grey = Image.fromarray(rs.randint(0, 256, size=(23, 17), dtype=np.uint8), 'L')
    out['images']['big'] = {'w': 37, 'h': 29, 'c': 3, 'data': enc(big)}
    out['images']['bigGrey'] = {'w': 17, 'h': 23, 'c': 1, 'data': enc(big_grey)}
    for k, im in (('big', big), ('bigGrey', big_grey), ('noise', ims['noise'])):
        for (w, h, box, filt) in [(11, 7, None, 'bicubic'), (16, 13, None, 'bicubic'), (5, 19, None, 'bicubic'), (8, 8, (3, 2, 9, 6), 'bicubic'), (12, 5, None, 'bilinear'), (4, 4, (1, 1, 9, 8), 'bicubic')]:
            if box and (box[0] + box[2] > im.size[0] or box[1] + box[3] > im.size[1]):
                continue
            src = im.crop((box[0], box[1], box[0] + box[2], box[1] + box[3])) if box else im
            r = src.resize((w, h), BICUBIC if filt == 'bicubic' else Image.BILINEAR)
            out['resize'].append({'image': k, 'w': w, 'h': h, 'box': box, 'filter': filt, 'out': enc(r)})
    # timm/ConvNeXt evaluation: Resize(int(size / crop_pct)) (shorter side, bicubic) then CenterCrop(size), via torchvision on PIL.
    out['evalcrop'] = []
    try:
        import torchvision.transforms as T
        for k, im in (('big', big), ('noise', ims['noise']), ('grad', ims['grad'])):
            for size in (8, 7, 16):
                scale = int(size / 0.875)
                r = T.CenterCrop(size)(T.Resize(scale, interpolation=T.InterpolationMode.BICUBIC)(im))
                out['evalcrop'].append({'image': k, 'size': size, 'out': enc(r)})
    except ImportError:
        raise SystemExit('torchvision is needed for the evaluation-crop fixtures')
    with open(OUT, 'w') as f:
        json.dump(out, f)
    print(f"wrote {OUT}: {len(out['ops'])} op cases, {len(out['resize'])} resizes, {len(out['evalcrop'])} eval crops (PIL {PIL.__version__})")


main()
