import io

from keras_hebb.progress import LINE_PER_EPOCH, PROGRESS_BAR, fit_verbosity, say


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_fit_draws_bars_on_a_terminal_and_lines_in_a_log():
    assert fit_verbosity(Terminal()) == PROGRESS_BAR
    assert fit_verbosity(io.StringIO()) == LINE_PER_EPOCH
    assert fit_verbosity(object()) == LINE_PER_EPOCH


def test_say_prefixes_the_project(capsys):
    say("training")
    assert capsys.readouterr().out == "[keras-hebb] training\n"
