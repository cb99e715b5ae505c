-- kerasfix language server for Neovim >= 0.11.
--
-- Put the folder holding this `lsp/` directory on the runtimepath (or copy this file into
-- `~/.config/nvim/lsp/`), then:
--
--   vim.lsp.enable('kerasfix')
--
-- Settings (all optional; unset ones come from [tool.kerasfix] in the nearest pyproject.toml):
--
--   vim.lsp.config('kerasfix', {
--     settings = { kerasfix = { select = { 'KER' }, unsafeFixes = false, targetBackends = { 'jax', 'torch' } } },
--   })
--
-- Buffer commands: :KerasfixFixAll, :KerasfixCheckWorkspace. Fix all on save:
--   vim.g.kerasfix_fix_all_on_save = true

local FIX_ALL_KIND = 'source.fixAll.kerasfix'

-- Neovim 0.11 client methods take `self` (client:request_sync(...)); older ones are closures
-- (client.request_sync(...)). This file also serves older Neovims through lua/kerasfix.lua.
local function call(client, method, ...)
  if vim.fn.has('nvim-0.11') == 1 then
    return client[method](client, ...)
  end
  return client[method](...)
end

-- Applies every fix kerasfix has for the buffer, synchronously (so that it can run before a write).
local function fix_all(client, bufnr)
  local last_line = math.max(vim.api.nvim_buf_line_count(bufnr) - 1, 0)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = { start = { line = 0, character = 0 }, ['end'] = { line = last_line, character = 0 } },
    context = { only = { FIX_ALL_KIND }, diagnostics = {} },
  }
  local response = call(client, 'request_sync', 'textDocument/codeAction', params, 3000, bufnr)
  if not response or response.err then
    vim.notify('kerasfix: fix all failed: ' .. vim.inspect(response and response.err or 'timeout'), vim.log.levels.WARN)
    return
  end
  for _, action in ipairs(response.result or {}) do
    if action.kind == FIX_ALL_KIND and action.edit then
      vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
    end
  end
end

local function plural(count, word)
  return ('%d %s%s'):format(count, word, count == 1 and '' or 's')
end

local function check_workspace(client, bufnr)
  local params = { command = 'kerasfix.checkWorkspace', arguments = {} }
  call(client, 'request', 'workspace/executeCommand', params, function(err, result)
    if err then
      vim.notify('kerasfix: ' .. tostring(err.message or err), vim.log.levels.WARN)
    else
      vim.notify(('kerasfix: %s in %s'):format(plural(result.findings, 'finding'), plural(result.files, 'file')))
    end
  end, bufnr)
end

return {
  cmd = { 'kerasfix', 'server' },
  filetypes = { 'python' },
  root_markers = { 'pyproject.toml', 'setup.py', 'setup.cfg', 'requirements.txt', '.git' },
  settings = { kerasfix = {} },
  on_attach = function(client, bufnr)
    vim.api.nvim_buf_create_user_command(bufnr, 'KerasfixFixAll', function()
      fix_all(client, bufnr)
    end, { desc = 'kerasfix: apply every fix to this buffer' })
    vim.api.nvim_buf_create_user_command(bufnr, 'KerasfixCheckWorkspace', function()
      check_workspace(client, bufnr)
    end, { desc = 'kerasfix: check every Python file of the workspace' })
    if vim.g.kerasfix_fix_all_on_save then
      vim.api.nvim_create_autocmd('BufWritePre', {
        buffer = bufnr,
        group = vim.api.nvim_create_augroup('kerasfix_fix_all_' .. bufnr, { clear = true }),
        callback = function()
          fix_all(client, bufnr)
        end,
      })
    end
  end,
}
