"""Draw the application icon (assets/facelink.png, .ico, .icns) with Pillow."""

from pathlib import Path

from PIL import Image, ImageDraw

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def draw(size: int = 512) -> Image.Image:
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([16, 16, size - 16, size - 16], radius=110, fill=(20, 60, 120, 255))
    d.ellipse([136, 96, 376, 356], outline=(255, 255, 255, 255), width=26)  # a face
    d.ellipse([200, 190, 230, 220], fill=(255, 255, 255, 255))
    d.ellipse([282, 190, 312, 220], fill=(255, 255, 255, 255))
    d.arc([206, 230, 306, 310], start=20, end=160, fill=(255, 255, 255, 255), width=18)
    for x, h in zip((96, 176, 256, 336, 416), (40, 80, 120, 80, 40)):  # a buzz
        d.rounded_rectangle([x - 18, 430 - h // 2, x + 18, 430 + h // 2], radius=12, fill=(255, 200, 60, 255))
    return img


if __name__ == "__main__":
    icon = draw()
    icon.save(ASSETS / "facelink.png")
    icon.save(ASSETS / "facelink.ico", sizes=[(s, s) for s in (16, 32, 48, 64, 128, 256)])
    icon.save(ASSETS / "facelink.icns")
