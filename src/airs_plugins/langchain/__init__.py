"""LangChain adapters: ``AIRSMiddleware`` (create_agent), ``AIRSCallbackHandler`` (existing chains),
``guard_tools`` (any ``BaseTool``), ``guard_retriever`` (any ``BaseRetriever`` whose documents a prompt reads).

>>> from airs_plugins import Shield
>>> from airs_plugins.langchain import AIRSMiddleware
>>> middleware = AIRSMiddleware(Shield.default())
"""

from .._extras import require

require("airs_plugins.langchain", extra="langgraph")

from ._callback import AIRSCallbackHandler  # noqa: E402
from ._middleware import AIRSAgentState, AIRSMiddleware  # noqa: E402
from ._retriever import GuardedRetriever, guard_retriever  # noqa: E402
from ._tools import GuardedTool, guard_tools  # noqa: E402
from ._translate import merge_context  # noqa: E402

__all__ = ["AIRSAgentState", "AIRSCallbackHandler", "AIRSMiddleware", "GuardedRetriever", "GuardedTool",
           "guard_retriever", "guard_tools", "merge_context"]
