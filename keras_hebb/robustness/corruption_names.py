"""The names of the common corruptions and severities (no imports: the run
configuration checks names without loading the image libraries)."""

# CIFAR-10-C's 15 corruptions, by family: noise, blur, weather, digital.
FAMILIES = {
    "noise": ("gaussian_noise", "shot_noise", "impulse_noise"),
    "blur": ("defocus_blur", "glass_blur", "motion_blur", "zoom_blur"),
    "weather": ("snow", "frost", "fog"),
    "digital": (
        "brightness",
        "contrast",
        "elastic_transform",
        "pixelate",
        "jpeg_compression",
    ),
}
CORRUPTIONS = tuple(name for names in FAMILIES.values() for name in names)
SEVERITY_LEVELS = (1, 2, 3, 4, 5)
