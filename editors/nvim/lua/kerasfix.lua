-- kerasfix for Neovim 0.7 to 0.10, which have no vim.lsp.config: starts the server configured
-- in lsp/kerasfix.lua (the same file Neovim >= 0.11 reads) for every Python buffer.
--
--   require('kerasfix').setup({ settings = { kerasfix = { select = { 'KER' } } } })
--
-- `opts` are merged over lsp/kerasfix.lua's table (cmd, settings, on_attach, root_markers, ...).

local M = {}

local function shipped_config()
  local file = vim.api.nvim_get_runtime_file('lsp/kerasfix.lua', false)[1]
  if not file then
    error('kerasfix: lsp/kerasfix.lua is not on the runtimepath')
  end
  return dofile(file)
end

local function root_dir(bufnr, markers)
  local start = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ':p:h')
  for _, marker in ipairs(markers) do
    local file = vim.fn.findfile(marker, start .. ';')
    if file ~= '' then
      return vim.fn.fnamemodify(file, ':p:h')
    end
    local folder = vim.fn.finddir(marker, start .. ';')
    if folder ~= '' then
      return vim.fn.fnamemodify(folder, ':p:h:h') -- ':p' of a folder ends with '/'
    end
  end
  return start
end

function M.setup(opts)
  local config = vim.tbl_deep_extend('force', shipped_config(), opts or {})
  local clients = {} -- one server per root folder
  local function attach(bufnr)
    local root = root_dir(bufnr, config.root_markers or {})
    local id = clients[root]
    if not id or not vim.lsp.get_client_by_id(id) then
      id = vim.lsp.start_client({
        name = 'kerasfix',
        cmd = config.cmd,
        root_dir = root,
        workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
        settings = config.settings,
        init_options = config.init_options or config.settings,
        on_attach = config.on_attach,
      })
      clients[root] = id
    end
    if id then
      vim.lsp.buf_attach_client(bufnr, id)
    end
  end
  vim.api.nvim_create_autocmd('FileType', {
    group = vim.api.nvim_create_augroup('kerasfix', { clear = true }),
    pattern = config.filetypes or { 'python' },
    callback = function(args)
      attach(args.buf)
    end,
  })
  -- Buffers already open when setup() runs.
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(config.filetypes or { 'python' }, vim.bo[bufnr].filetype) then
      attach(bufnr)
    end
  end
end

return M
