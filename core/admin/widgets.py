"""Admin form helpers shared by the apps' rule tables."""

from django import forms
from import_export import widgets


class ChoiceListWidget(widgets.Widget):
    """A list column in a spreadsheet cell: values separated by commas."""

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            return []
        return [part.strip() for part in str(value).split(",") if part.strip()]

    def render(self, value, obj=None, **kwargs):
        return ",".join(value or [])


class ChoiceListForm(forms.ModelForm):
    """Edit JSON list columns as checkboxes of their choices."""

    list_choices: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, choices in self.list_choices.items():
            model_field = self._meta.model._meta.get_field(name)
            self.fields[name] = forms.MultipleChoiceField(
                label=model_field.verbose_name, help_text=model_field.help_text, choices=choices,
                required=False, widget=forms.CheckboxSelectMultiple)
