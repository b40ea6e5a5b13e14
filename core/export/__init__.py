"""What users take elsewhere: the run as a NumPy script, a notebook and a PyTorch script
(each with the data file it loads beside it), and the trained network as an ONNX model."""

from .notebook import write_notebook
from .numpy_script import write_numpy_script
from .onnx_model import write_onnx
from .source import ExportSource
from .torch_script import write_torch_script

__all__ = ["ExportSource", "write_notebook", "write_numpy_script", "write_onnx", "write_torch_script"]
