"""The static files build as production serves them (DEBUG off: hashed, compressed names)."""

from django.core.management import call_command


def test_collectstatic_succeeds_with_the_production_storage(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

    # The manifest storage refuses any CSS or JS that references a file that is not there
    # (a vendored library's source map, say), which would stop a deployment.
    call_command("collectstatic", "--no-input", verbosity=0)

    assert (tmp_path / "staticfiles.json").exists()
    assert list(tmp_path.glob("vendor/chartjs/chart.umd.min.*.js"))
