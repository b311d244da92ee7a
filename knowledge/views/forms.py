"""Forms of the knowledge-base pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from knowledge.models import Article, ArticleLanguage, ArticleType, ScriptScenario
from knowledge.selectors import category_tree
from tickets.models.choices import Channel


def category_choices() -> list[tuple[str, str]]:
    return [("", "—")] + [(str(c.pk), "\u3000" * depth + c.name) for c, depth in category_tree()]


class ArticleForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    article_type = forms.ChoiceField(label=_("Type"), choices=ArticleType.choices)
    category = forms.ChoiceField(label=_("Category"), required=False)
    # Left out (an older form, a script): a new article is in Simplified Chinese, an edited
    # one keeps its language.
    language = forms.ChoiceField(label=_("Language"), choices=ArticleLanguage.choices,
                                 initial=ArticleLanguage.SIMPLIFIED_CHINESE, required=False)
    tags = forms.CharField(label=_("Tags"), required=False, max_length=400,
                           help_text=_("Separate tags with commas."))
    body = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 18, "class": "font-monospace"}),
        help_text=_("Markdown: **bold**, lists, tables, [links](https://…) and ![pictures](https://…)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ChoiceField)
        category.choices = category_choices()
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs["class"] = f"{css} {field.widget.attrs.get('class', '')}".strip()

    @classmethod
    def initial_for(cls, article: Article) -> dict:
        return {
            "title": article.title, "article_type": article.article_type,
            "language": article.language,
            "category": str(article.category_id or ""), "body": article.body,
            "tags": ", ".join(tag.name for tag in article.tags.all()),
        }

    def tag_names(self) -> list[str]:
        raw = self.cleaned_data.get("tags", "").replace("，", ",")
        return [name.strip() for name in raw.split(",") if name.strip()]


class ScriptFilterForm(forms.Form):
    q = forms.CharField(label=_("Words"), required=False, max_length=100)
    scenario = forms.ChoiceField(label=_("Scenario"), required=False,
                                 choices=[("", _("All scenarios")), *ScriptScenario.choices])
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("All channels")), *Channel.choices])
    language = forms.ChoiceField(label=_("Language"), required=False)
    ticket = forms.CharField(label=_("Ticket"), required=False, max_length=24,
                             help_text=_("Fill the placeholders from this ticket."))

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = [("", _("All languages")), *settings.LANGUAGES]
        for field in self.fields.values():
            css = "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            field.widget.attrs["class"] = f"{css} form-control-sm"
